"""mentorflow: the engine for city-to-city peer-learning programmes."""
