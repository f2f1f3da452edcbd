package tinyparcel.worker

import org.yaml.snakeyaml.LoaderOptions
import org.yaml.snakeyaml.Yaml
import org.yaml.snakeyaml.constructor.SafeConstructor
import java.io.File
import java.security.MessageDigest
import java.util.Random

data class LabelRequest(val parcelId: String, val template: String, val printer: String)

class LabelJob(private val store: LabelStore) {
    private val random = Random()

    fun parseRequest(body: String): LabelRequest {
        val fields = Yaml(SafeConstructor(LoaderOptions())).load<Map<String, String>>(body)
        return LabelRequest(fields.getValue("parcelId"), fields.getValue("template"), fields.getValue("printer"))
    }

    fun render(request: LabelRequest): File {
        val jobId = random.nextInt(1_000_000)
        val output = File("/var/lib/tinyparcel/labels/${request.parcelId}-$jobId.pdf")
        Runtime.getRuntime().exec("wkhtmltopdf templates/${request.template}.html ${output.path}").waitFor()
        return output
    }

    fun print(label: File, printer: String) {
        Runtime.getRuntime().exec(arrayOf("lp", "-d", printer, label.path)).waitFor()
    }

    fun signature(label: File): String {
        val digest = MessageDigest.getInstance("SHA-1").digest(label.readBytes())
        return digest.joinToString("") { "%02x".format(it) } + ":" + store.checksum(label.readBytes())
    }
}
