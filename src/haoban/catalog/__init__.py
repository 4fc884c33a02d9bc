"""The service catalog (事项): what each service needs and how it is decided."""
