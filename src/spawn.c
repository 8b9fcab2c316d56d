/* spawn.c - see spawn.h */
#include "spawn.h"
