"""A sample package whose models are written in kd."""
