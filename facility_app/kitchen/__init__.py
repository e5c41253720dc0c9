"""Meals: menus, dishes and allergens, what was served and eaten, food samples."""
