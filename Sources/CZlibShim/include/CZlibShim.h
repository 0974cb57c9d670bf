// zlib's deflateInit2 / inflateInit2 are macros (they pass the library version and the
// stream size), which Swift cannot call. These two functions are the whole shim; the rest
// of zlib (deflate, inflate, *End) is called from Swift through <zlib.h> directly.
#ifndef MPOLICE_CZLIBSHIM_H
#define MPOLICE_CZLIBSHIM_H

#include <zlib.h>

/// deflateInit2 producing a gzip stream (RFC 1952) at `level`.
int mp_gzip_deflate_init(z_stream *stream, int level);
/// inflateInit2 accepting a gzip stream only.
int mp_gzip_inflate_init(z_stream *stream);

#endif
