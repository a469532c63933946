// OpenBLAS's CBLAS header (Debian: libopenblas-dev; `pkg-config --cflags openblas` names its
// directory). It declares cblas_sgemm and OpenBLAS's own openblas_get_config,
// openblas_get_num_threads and openblas_get_corename.
#include <cblas.h>
