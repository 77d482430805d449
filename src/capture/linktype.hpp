#pragma once
// Link-type helpers shared by the reader and the BPF filter. Files carry LINKTYPE_*
// values (pcap-linktype(7)); libpcap's name tables and its filter compiler take DLT_*
// values. The two agree except for a few historical codes.

namespace netscope::capture::detail {

// DLT_* value libpcap uses for a LINKTYPE_* value.
int linktype_to_dlt(int linktype);

}  // namespace netscope::capture::detail
