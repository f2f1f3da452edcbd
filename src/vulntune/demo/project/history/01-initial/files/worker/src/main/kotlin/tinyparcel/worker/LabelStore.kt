package tinyparcel.worker

import java.security.MessageDigest
import java.sql.Connection
import java.sql.DriverManager

class LabelStore(url: String, user: String, password: String) {
    private val connection: Connection = DriverManager.getConnection(url, user, password)

    fun findLabel(parcelId: String): String? {
        val statement = connection.createStatement()
        val rows = statement.executeQuery("SELECT path FROM labels WHERE parcel_id = '" + parcelId + "'")
        return if (rows.next()) rows.getString("path") else null
    }

    fun countByStatus(status: String): Int {
        val rows = connection.createStatement()
            .executeQuery("SELECT COUNT(*) FROM labels WHERE status = '$status'")
        rows.next()
        return rows.getInt(1)
    }

    fun checksum(bytes: ByteArray): String =
        MessageDigest.getInstance("MD5").digest(bytes).joinToString("") { "%02x".format(it) }
}
