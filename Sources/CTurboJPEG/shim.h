// libjpeg-turbo's TurboJPEG API (libturbojpeg0-dev): the reference center's data-set
// generator encodes its synthetic photos with it. The terminal never links it.
#include <turbojpeg.h>
