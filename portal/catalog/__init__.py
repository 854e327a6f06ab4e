"""The service catalog: categories, items, their forms as data, and search."""
