/* An isolate that spins in its own code forever (no system calls). */
volatile unsigned long spin_count;

int
main(void)
{
	for (;;)
		spin_count++;
}
