/* Refused: thread-local storage (PT_TLS) is not supported. */
__thread int t = 4;

int
main(void)
{
	return t;
}
