// OpenCL C 1.2 host API types and constants (opencl-headers). The functions are not linked:
// RDBackendOpenCL loads the ICD loader (libOpenCL.so.1) at run time, so rdlab starts, and
// falls back to the CPU, on machines without OpenCL.
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
