"""Class names of the FRED (Florence RGB-Event Drone) dataset."""
from typing import Tuple

#: The five drone models annotated in FRED, in label-index order.
FRED_CLASSES: Tuple[str, ...] = ('DJI Mini 2', 'DJI Mini 3', 'DJI Tello EDU',
                                 'DarwinFPV cineape20', 'Betafpv air75')
