// ICU's data table for the package (Packaging/icu-data.py, docs/packaging.md). `make deb`
// writes icudata.inc (the table cut down to what a terminal uses) and builds with
// -DMPOLICE_ICU_SUBSET; this object then defines the table's symbol before the linker
// reaches Foundation's ICU archive, which keeps its full table out. Other builds assemble
// nothing here and link Foundation's table as it is.
#ifdef MPOLICE_ICU_SUBSET
#include "icudata.inc"
#endif
	.section .note.GNU-stack,"",@progbits
