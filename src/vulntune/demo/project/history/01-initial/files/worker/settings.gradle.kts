rootProject.name = "tinyparcel-worker"
