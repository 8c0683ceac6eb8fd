// net/name/identifier.cc: implementation follows (parse_identifier, reverse_name).
