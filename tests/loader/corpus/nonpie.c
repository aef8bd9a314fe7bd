/* Refused: built as a non-PIE static executable (ET_EXEC). */
int
main(void)
{
	return 0;
}
