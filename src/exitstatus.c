/* exitstatus.c - see exitstatus.h */
#include "exitstatus.h"
