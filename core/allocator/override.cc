// Routes C++ operator new/delete to mimalloc for the binary this object is linked into. Debian's libmimalloc.so
// is built with MI_OVERRIDE, so malloc/free are already interposed once the library is linked; this header adds
// the C++ operators, which would otherwise reach glibc through libstdc++'s own definitions.
// Linked only into executables (never into a library) and left out of sanitizer builds.
#include <mimalloc-new-delete.h>
