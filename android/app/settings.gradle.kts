// The Android app: the activity and platform glue here, the screens, presentation state and
// Android-only Kotlin from the Maven modules next to it (../ui, ../meadow-kotlin, ../device),
// which are built and tested on the desktop JVM.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "meadow-android"
include(":app")
