/* "main" is a data object (in a writable, non-executable segment): run
 * must refuse to jump there, naming why, instead of faulting. */
int not_main[4] __asm__("main") = { 0xc3c3c3c3, 0, 0, 0 };
