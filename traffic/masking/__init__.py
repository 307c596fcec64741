"""The national masking list (Bude art. 4.2): numbers never shown in full on a bill."""
