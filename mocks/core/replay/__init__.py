"""Sessions after the fact: export (:mod:`.export`), HAR (:mod:`.har`), the replay client (:mod:`.client`)."""
