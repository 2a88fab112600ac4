"""Operations engine and journal (no UI)."""
