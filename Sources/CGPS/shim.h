// libgps, the gpsd client library, from the target's own headers (libgps-dev).
// Supported: GPSD_API_MAJOR_VERSION 11 (gpsd 3.21–3.24; Debian 12 ships 3.22).
#include <gps.h>
