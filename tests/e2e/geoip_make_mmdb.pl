#!/usr/bin/perl
# geoip_make_mmdb.pl OUT.mmdb < SPEC.json: writes a small MaxMind DB for the GeoIP tests.
# SPEC: {"ip_version": 4|6, "database_type": "...", "types": {"key": "utf8_string", ...},
#        "records": [["first_ip", "last_ip", {data}], ...]}
# Records are inserted in order (a later one overwrites an earlier one where they meet).
use strict;
use warnings;
use JSON::PP;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: geoip_make_mmdb.pl OUT.mmdb < SPEC.json\n";
my $spec = decode_json(do { local $/; <STDIN> });
my %types = %{ $spec->{types} };
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $spec->{ip_version},
    record_size              => 24,
    database_type            => $spec->{database_type},
    languages                => ['en'],
    description              => { en => 'netscope test database' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    remove_reserved_networks => 0,
);
for my $r (@{ $spec->{records} }) {
    $tree->insert_range($r->[0], $r->[1], $r->[2]);
}
open my $fh, '>:raw', $out or die "geoip_make_mmdb.pl: $out: $!\n";
$tree->write_tree($fh);
close $fh or die "geoip_make_mmdb.pl: $out: $!\n";
