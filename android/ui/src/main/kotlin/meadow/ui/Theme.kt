package meadow.ui

import meadow.Strings
import meadow.English
import meadow.German
import androidx.compose.material3.ColorScheme
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.darkColorScheme
import androidx.compose.material3.lightColorScheme
import androidx.compose.runtime.Composable
import androidx.compose.runtime.CompositionLocalProvider
import androidx.compose.runtime.staticCompositionLocalOf
import androidx.compose.ui.graphics.Color
import java.util.Locale

private val Meadow = Color(0xFF2E7D4F)
private val Lake = Color(0xFF2F6690)
private val Sun = Color(0xFFC77700)

private val Light = lightColorScheme(
    primary = Meadow, onPrimary = Color.White,
    primaryContainer = Color(0xFFB7F1C9), onPrimaryContainer = Color(0xFF00210F),
    secondary = Lake, onSecondary = Color.White,
    secondaryContainer = Color(0xFFCDE5FF), onSecondaryContainer = Color(0xFF001D32),
    tertiary = Sun, onTertiary = Color.White,
    tertiaryContainer = Color(0xFFFFDDB5), onTertiaryContainer = Color(0xFF2A1800),
    background = Color(0xFFF7FBF5), surface = Color(0xFFF7FBF5),
)

private val Dark = darkColorScheme(
    primary = Color(0xFF9CD4AE), onPrimary = Color(0xFF003920),
    primaryContainer = Color(0xFF125233), onPrimaryContainer = Color(0xFFB7F1C9),
    secondary = Color(0xFF9BCBFB), onSecondary = Color(0xFF003352),
    secondaryContainer = Color(0xFF0F4A73), onSecondaryContainer = Color(0xFFCDE5FF),
    tertiary = Color(0xFFFFB95C), onTertiary = Color(0xFF462A00),
    tertiaryContainer = Color(0xFF643F00), onTertiaryContainer = Color(0xFFFFDDB5),
    background = Color(0xFF101411), surface = Color(0xFF101411),
)

/** How official and community events are told apart at a glance: colour and label both. */
data class Kinds(val official: Color, val onOfficial: Color, val community: Color, val onCommunity: Color, val nowLine: Color)

/** The kinds' colours for the theme below. */
val LocalKinds = staticCompositionLocalOf { kindsFor(Light) }

private fun kindsFor(c: ColorScheme) =
    Kinds(c.primaryContainer, c.onPrimaryContainer, c.tertiaryContainer, c.onTertiaryContainer, c.error)

/** Meadow's Material 3 theme, light or dark, with the strings of [strings]. */
@Composable
fun MeadowTheme(dark: Boolean, strings: Strings = English, content: @Composable () -> Unit) {
    val scheme = if (dark) Dark else Light
    MaterialTheme(colorScheme = scheme) {
        CompositionLocalProvider(LocalKinds provides kindsFor(scheme), LocalStrings provides strings, content = content)
    }
}

/** The locale for dates of the strings in use. */
fun Strings.locale(): Locale = if (this === German) Locale.GERMAN else Locale.UK
