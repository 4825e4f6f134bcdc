"""The scorer f of the Siamese network (paper Section 3.2): backbones by name, input
presets, the losses of Eq. 7-9, the one scoring path and the step O_AB = f(A) - f(B)
(``inference``), and Grad-CAM for Fig. 7.
"""
