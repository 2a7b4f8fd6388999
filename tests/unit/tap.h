/* tap.h - a tiny TAP producer for the C unit tests (run by automake's TAP driver). */
#ifndef VF_TAP_H
#define VF_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, ...) do {                                              \
	int tap_c_ = !!(cond);                                               \
	tap_n++;                                                             \
	if (!tap_c_) tap_failed++;                                           \
	printf("%s %d - ", tap_c_ ? "ok" : "not ok", tap_n);                 \
	printf(__VA_ARGS__);                                                 \
	printf("\n");                                                        \
	if (!tap_c_) printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
} while (0)

#define TAP_EQ_U64(a, b, ...) do {                                          \
	uint64_t tap_a_ = (uint64_t)(a), tap_b_ = (uint64_t)(b);             \
	TAP_OK(tap_a_ == tap_b_, __VA_ARGS__);                               \
	if (tap_a_ != tap_b_)                                                \
		printf("#   got 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", tap_a_, tap_b_); \
} while (0)

#define TAP_EQ_STR(a, b, ...) do {                                          \
	const char *tap_a_ = (a), *tap_b_ = (b);                             \
	int tap_e_ = tap_a_ && tap_b_ && strcmp(tap_a_, tap_b_) == 0;        \
	TAP_OK(tap_e_, __VA_ARGS__);                                         \
	if (!tap_e_)                                                         \
		printf("#   got '%s', expected '%s'\n", tap_a_ ? tap_a_ : "(null)", \
		       tap_b_ ? tap_b_ : "(null)");                          \
} while (0)

/* Print the plan at the end and exit with the TAP status. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
