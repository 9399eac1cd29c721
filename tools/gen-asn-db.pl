#!/usr/bin/perl
# Build a MaxMind-format network database (.mmdb) from a JSON file of
# prefix -> {asn, org, class}, for tests and the demo:
#   tools/gen-asn-db.pl networks.json out.mmdb
# Each record carries the fields hydrascope reads: autonomous_system_number,
# autonomous_system_organization and hydrascope_class (residential, mobile,
# hosting or business), plus connection_type as GeoIP2 spells it, so the
# database also reads like a commercial one.
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Tree;

die "usage: $0 networks.json out.mmdb\n" unless @ARGV == 2;
my ($in, $out) = @ARGV;
open(my $fh, '<', $in) or die "$in: $!\n";
my $nets = decode_json(do { local $/; <$fh> });
close($fh);

my %conn = (residential => 'Cable/DSL', mobile => 'Cellular',
	    business => 'Corporate', hosting => 'Corporate');
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version            => 6,
	record_size           => 28,
	# the test plan uses documentation and private ranges
	remove_reserved_networks => 0,
	database_type         => 'hydrascope-test-networks',
	languages             => ['en'],
	description           => { en => 'hydrascope test networks' },
	map_key_type_callback => sub {
		my $k = shift;
		return $k eq 'autonomous_system_number' ? 'uint32' : 'utf8_string';
	},
);
for my $cidr (sort keys %$nets) {
	my $n = $nets->{$cidr};
	# IPv4 prefixes go in the IPv4-mapped part of the IPv6 tree
	my $net = $cidr =~ /:/ ? $cidr : do {
		my ($a, $len) = split m{/}, $cidr;
		"::$a/" . (96 + $len);
	};
	$tree->insert_network($net, {
		autonomous_system_number       => $n->{asn},
		autonomous_system_organization => $n->{org},
		hydrascope_class               => $n->{class},
		connection_type                => $conn{$n->{class}} // 'Corporate',
	});
}
open(my $o, '>:raw', $out) or die "$out: $!\n";
$tree->write_tree($o);
close($o) or die "$out: $!\n";
