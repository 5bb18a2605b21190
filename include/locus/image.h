/* Images: decoding (JPEG, PNG) and Hugging Face image-processor preprocessing. */
#ifndef LOCUS_IMAGE_H
#define LOCUS_IMAGE_H
#include "../locus.h"
#endif
