// Report: placeholder until the analyze module lands in this session.
