import CCurlShim
import CGPS
import Testing

/// The C edges link against the libraries the later transport and GPS work relies on.
@Suite("System libraries")
struct SystemLibraryTests {
    @Test("libcurl is the OpenSSL build with HTTP/2 and the typed setopt wrappers work")
    func curl() throws {
        let info = try #require(mp_curl_version_info())
        let ssl = String(cString: try #require(info.pointee.ssl_version))
        #expect(ssl.hasPrefix("OpenSSL"))
        #expect(info.pointee.features & CURL_VERSION_HTTP2 != 0)
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(mp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, 1_500) == CURLE_OK)
        #expect(mp_curl_setopt_string(handle, CURLOPT_URL, "https://127.0.0.1:1/manifest.json") == CURLE_OK)
        #expect(mp_curl_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, 1024) == CURLE_OK)
        #expect(mp_curl_setopt_long(handle, CURLOPT_SSLVERSION, 999_999) != CURLE_OK)
        var code = 0
        #expect(mp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
        #expect(code == 0)
    }

    @Test("libgps speaks gpsd API 11 and reports a refused connection")
    func gps() {
        #expect(GPSD_API_MAJOR_VERSION == 11)
        var data = gps_data_t()
        // Port 1 on loopback: nothing listens, so gps_open fails with a libgps error code.
        let result = gps_open("127.0.0.1", "1", &data)
        #expect(result != 0)
        #expect(String(cString: gps_errstr(result)).isEmpty == false)
    }
}
