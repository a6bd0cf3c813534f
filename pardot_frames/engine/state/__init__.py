"""What jobs keep between runs in the state folder: the journal, the sync state, the field cache, the recycle
bin, the input's fingerprint."""
