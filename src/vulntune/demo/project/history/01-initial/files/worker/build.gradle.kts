plugins {
    kotlin("jvm") version "2.0.21"
    application
}

group = "tinyparcel"
version = "1.0.0"

repositories {
    mavenCentral()
}

dependencies {
    // The JDBC driver is provided by the runtime image, next to the worker jar.
    implementation("org.yaml:snakeyaml:1.33")
}

configurations.runtimeClasspath {
    resolutionStrategy.activateDependencyLocking()
}

application {
    mainClass.set("tinyparcel.worker.MainKt")
}

kotlin {
    jvmToolchain(17)
}
