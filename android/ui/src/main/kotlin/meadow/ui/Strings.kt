package meadow.ui

import androidx.compose.runtime.staticCompositionLocalOf
import meadow.English
import meadow.Strings

/** The strings of the screens below (the texts themselves are in meadow-kotlin's Strings.kt). */
val LocalStrings = staticCompositionLocalOf<Strings> { English }
