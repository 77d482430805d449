// Engine: placeholder until the monitor module lands in this session.
