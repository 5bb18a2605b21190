/* C2PA content credentials: read, validate, sign. Usable without the inference engine. */
#ifndef LOCUS_C2PA_H
#define LOCUS_C2PA_H
#include "../locus.h"
#endif
