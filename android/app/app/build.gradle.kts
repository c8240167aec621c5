plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

android {
    namespace = "org.meadow.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "org.meadow.app"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }

    sourceSets {
        getByName("main") {
            // The same sources the Maven build compiles and tests on the JVM; the desktop
            // window's entry point stays out.
            kotlin.srcDirs(
                "src/main/kotlin",
                "../../meadow-kotlin/src/main/kotlin",
                "../../ui/src/main/kotlin",
                "../../device/src/main/kotlin",
            )
            kotlin.exclude("meadow/ui/desktop/**")
            // libmeadow_ffi.so per ABI, put here by ../scripts/build-native.sh.
            jniLibs.srcDirs("src/main/jniLibs")
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    buildFeatures { compose = true }
    packaging { jniLibs.useLegacyPackaging = false }
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.foundation)
    implementation(libs.compose.material3)
    // The same icons the desktop build takes from Compose Multiplatform; R8 keeps only those used.
    implementation(libs.compose.material.icons.extended)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.activity.compose)
    implementation(libs.core.ktx)
    implementation(libs.coroutines.android)
    // JNA's Android build carries its native dispatch library for each ABI.
    implementation(libs.jna) { artifact { type = "aar" } }
    implementation(libs.zxing.core)
    implementation(libs.zxing.embedded)
}
