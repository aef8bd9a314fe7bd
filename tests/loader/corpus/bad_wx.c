/* Illegal: linked with bad_wx.lds into one RWX segment. */
int counter = 3;

int
main(void)
{
	return counter;
}
