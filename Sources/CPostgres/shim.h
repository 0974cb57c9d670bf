// libpq, PostgreSQL's client library (libpq-dev): the reference center's PostgreSQL backend.
#include <libpq-fe.h>
