/* The shims are header-only so far; SwiftPM wants a C target to have a source file. */
#include "CModHostShims.h"
