"""The screens of the three roles; each module contains one area, each view checks its permission."""
