"""The host platform's Django app: cities, delegates and exchanges, with mentorflow for the workflow."""
