"""Drone appearance per FRED class: box aspect, width and the parts that
are drawn."""


def _corners(part: tuple, u: float, v: float) -> list:
    """Four copies of a drone part centred at ``(+-u, +-v)``."""
    return [(part[0], (su * u, sv * v)) + part[1:] for su in (-1, 1)
            for sv in (-1, 1)]


# Drone appearance per class: box aspect (w / h), width as a fraction of the
# image width, and parts in box units (u, v in [-0.5, 0.5]) with BGR colours.
# ('disc', centre, radii, colour) is a filled ellipse, ('ring', centre,
# radii, colour, thickness) an ellipse outline, ('line', p1, p2, colour,
# thickness), ('rect', p1, p2, colour) a filled rectangle; thicknesses are
# fractions of the box height.
DRONE_STYLES = (
    dict(  # DJI Mini 2: grey X frame, light rotors
        aspect=1.7,
        width=0.09,
        parts=[
            ('line', (-0.36, -0.3), (0.36, 0.3), (60, 60, 65), 0.1),
            ('line', (-0.36, 0.3), (0.36, -0.3), (60, 60, 65), 0.1),
            *_corners(('disc', (0.14, 0.2), (150, 150, 155)), 0.36, 0.3),
            ('disc', (0.0, 0.0), (0.2, 0.28), (75, 75, 80)),
        ]),
    dict(  # DJI Mini 3: wide, dark body, thin rotor outlines
        aspect=2.0,
        width=0.12,
        parts=[
            ('line', (-0.38, -0.28), (0.38, 0.28), (50, 50, 55), 0.08),
            ('line', (-0.38, 0.28), (0.38, -0.28), (50, 50, 55), 0.08),
            *_corners(
                ('ring', (0.1, 0.19), (110, 110, 120), 0.07), 0.39, 0.29),
            ('disc', (0.0, 0.0), (0.24, 0.3), (40, 40, 45)),
        ]),
    dict(  # DJI Tello EDU: small, white body, black rotor guards
        aspect=1.2,
        width=0.07,
        parts=[
            *_corners(('ring', (0.19, 0.19), (20, 20, 20), 0.1), 0.3, 0.3),
            ('rect', (-0.2, -0.24), (0.2, 0.24), (235, 235, 235)),
        ]),
    dict(  # DarwinFPV cineape20: black square frame, orange ducts
        aspect=1.25,
        width=0.085,
        parts=[
            ('rect', (-0.22, -0.22), (0.22, 0.22), (25, 25, 30)),
            *_corners(('ring', (0.2, 0.2), (0, 130, 255), 0.12), 0.28, 0.28),
        ]),
    dict(  # Betafpv air75: tiny, green ducts, red body
        aspect=1.45,
        width=0.055,
        parts=[
            *_corners(('disc', (0.2, 0.22), (50, 170, 40)), 0.3, 0.28),
            ('disc', (0.0, 0.0), (0.22, 0.3), (40, 40, 210)),
        ]),
)
