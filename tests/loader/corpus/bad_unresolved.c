/* Refused at load: imports the export table does not have (built without
 * krank-cc's stub, which would have failed the link). */
int krank_missing_one(void);
int krank_missing_two(int);

int
main(void)
{
	return krank_missing_one() + krank_missing_two(1);
}
