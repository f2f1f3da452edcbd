package tinyparcel.worker

fun main() {
    val store = LabelStore(
        System.getenv("TINYPARCEL_JDBC_URL") ?: "jdbc:postgresql://localhost:5432/tinyparcel",
        System.getenv("TINYPARCEL_DB_USER") ?: "tinyparcel",
        System.getenv("TINYPARCEL_DB_PASSWORD") ?: "",
    )
    val job = LabelJob(store)
    generateSequence(::readLine).forEach { line ->
        val request = job.parseRequest(line.replace("\\n", "\n"))
        val label = job.render(request)
        job.print(label, request.printer)
        println("printed ${request.parcelId} as ${label.name}")
    }
}
