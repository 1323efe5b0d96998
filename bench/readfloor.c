/* The read floor: the least any libpcap-based reader can do with a capture
 * file -- open it, call pcap_next_ex for every packet, count. netpeek's
 * benchmark compares its own run times against this. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned long long n = 0, bytes = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: readfloor FILE\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], err);
	if (p == NULL) {
		fprintf(stderr, "readfloor: %s\n", err);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		n++;
		bytes += h->caplen;
	}
	printf("%llu packets, %llu bytes\n", n, bytes);
	pcap_close(p);
	return rc == PCAP_ERROR_BREAK || rc == -2 ? 0 : 1;
}
