# bpf_object(NAME SOURCE): placeholder until the BPF build lands.
