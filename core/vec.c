/* vec: see vec.h. */
#include "core/vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *vec_push(void *arrp, size_t *n, size_t *cap, size_t elsz)
{
	void *arr; /* the T * at arrp, read and written as bytes (any T) */
	memcpy(&arr, arrp, sizeof arr);
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		if (nc < *cap || nc > SIZE_MAX / elsz)
			return NULL;
		void *na = realloc(arr, nc * elsz);
		if (!na)
			return NULL;
		arr = na;
		memcpy(arrp, &arr, sizeof arr);
		*cap = nc;
	}
	unsigned char *e = (unsigned char *)arr + *n * elsz;
	memset(e, 0, elsz);
	(*n)++;
	return e;
}
