#include "CZlibShim.h"

int mp_gzip_deflate_init(z_stream *stream, int level) {
    // 15 window bits + 16: gzip header and trailer; memLevel 8 is zlib's default.
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

int mp_gzip_inflate_init(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}
