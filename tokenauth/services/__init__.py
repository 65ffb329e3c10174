"""Plain service functions over a database session; they know nothing about HTTP."""
