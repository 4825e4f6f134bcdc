"""The scorer f of the paper (Sec. 3.2): backbones, input presets, losses (Eq. 7-9), Grad-CAM (Fig. 7)."""
